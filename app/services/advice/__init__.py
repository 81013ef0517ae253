"""The advice duty before a sale (DDA): proposals and their needs statement, quotes, the
DER and FIC documents, and the conversion of an accepted quote into a contract."""
