"""Write app/data/common-passwords.txt: the passwords attackers try first.

No list is downloaded (the application runs offline): this script spells out
the well-known weak patterns — the words and names people pick, in French and
English, keyboard walks, digit runs, dates — and the usual ways of dressing
them up (a prefix, a word said twice, two weak words side by side). Digits and
symbols around or inside a word ("P@ssw0rd2024!") are undone by the policy in
app/services/passwords.py before it asks this list, so they are not listed.

Run: python scripts/build_common_passwords.py
"""

from __future__ import annotations

import itertools
from pathlib import Path

TARGET = Path(__file__).resolve().parent.parent / "app" / "data" / "common-passwords.txt"

# Words that are passwords by themselves, or the core of one.
WEAK_WORDS = """
password passwort passw0rd motdepasse mot2passe motdepass contrasena contrasenya
secret secrets topsecret supersecret confidential confidentiel private prive
admin administrator administrateur administration root superuser sysadmin webmaster
user utilisateur guest invite visitor visiteur test tester testing demo example
default defaut changeme changeit change letmein letmein1 access acces welcome
bienvenue bienvenu hello bonjour bonsoir salut coucou hallo hola ciao welcome1
login logon signin connexion connect passe pass passpass master masterkey
trustno1 trustnoone nopassword nopass none null nothing blank empty
iloveyou iloveu jetaime jtaime teamo tequiero ichliebedich amour amore love lover
loveme loveyou mylove monamour moncoeur mamour bisous bisou doudou chouchou loulou
nounours cherie cheri princesse princess prince angel angels ange bebe baby babygirl
sunshine soleil summer ete winter hiver autumn automne spring printemps
monkey dragon dragons tiger lion eagle shadow ninja samurai phoenix wolf wolves
football soccer baseball basketball hockey tennis rugby golf cricket volley
foot handball boxing boxe skate surf velo cyclisme running
superman batman spiderman ironman pokemon pikachu starwars startrek matrix
mustang ferrari porsche corvette harley yamaha honda mercedes renault peugeot
citroen audi bmw toyota nissan volkswagen tesla
computer ordinateur internet google facebook twitter instagram linkedin youtube
microsoft windows apple iphone android samsung nokia orange free sfr bouygues
qwerty azerty qwertz azertyuiop qwertyuiop asdfgh asdfghjkl qsdfgh qsdfghjklm
zxcvbn zxcvbnm wxcvbn qazwsx azeqsd azerty123 qwerty123
abcdef abcdefg abcdefgh abc123 abcd1234 aaaaaa
chocolat chocolate cookie cookies cheese fromage banane banana pizza burger
coffee cafe caramel vanille vanilla candy bonbon sucre sugar honey miel
family famille maison house home voiture vacances holiday holidays weekend
freedom liberte liberty justice victory victoire champion champions winner
whatever anything something nothing forever toujours jamais always never
heaven paradise paradis hell enfer god dieu jesus christ allah
money argent dollar euro rich riche gold diamond silver
killer hunter ranger soldier warrior guerrier killer1 hacker hacking anonymous
pepper ginger maggie buster charlie lucky rocky max bella daisy milo oscar
chat chien cat dog kitty kitten puppy minou minette titi toto tata tutu
marseille olympique paris parisien lyon lyonnais toulouse bordeaux lille nantes
nice strasbourg montpellier rennes reims lens monaco bretagne provence
france francais french england london america usa canada quebec belgique suisse
psg allezlom allezparis lolo fifou
liverpool arsenal chelsea manchester barcelona barca realmadrid juventus milan
inter bayern dortmund ajax benfica porto celtic rangers
assurance assurances insurance monassurance courtier courtage broker agence agency
client clients contrat contract police policy sinistre prime
entreprise company societe bureau office travail work job
bonjour123 azerty123 soleil123 password123 admin123 test123 root123
jordan michael jennifer jessica ashley daniel matthew andrew joshua anthony
robert william thomas charles george james john david richard joseph
christopher mark donald steven paul kevin brian edward ronald timothy
jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin
scott brandon benjamin samuel frank gregory raymond alexander patrick jack
dennis jerry tyler aaron jose henry adam douglas nathan peter zachary kyle
mary patricia linda barbara elizabeth susan margaret dorothy lisa nancy
karen betty helen sandra donna carol ruth sharon michelle laura sarah
kimberly deborah amy angela melissa brenda anna rebecca virginia kathleen
pamela martha debra amanda stephanie carolyn christine marie janet catherine
frances ann joyce diane alice julie heather teresa doris gloria evelyn jean
cheryl mildred katherine joan judith rose janice kelly nicole judy
christina kathy theresa beverly denise tammy irene jane lori rachel marilyn
andrea kathryn louise sara anne jacqueline wanda bonnie julia ruby lois tina
phyllis norma paula diana annie lillian emily robin peggy crystal gladys rita
dawn connie florence tracy edna tiffany carmen rosa cindy grace wendy victoria
edith kim sherry sylvia josephine thelma shannon sheila ethel ellen elaine
jean pierre michel philippe alain nicolas christophe patrick christian daniel
frederic laurent stephane sebastien julien olivier thierry david eric pascal
francois jerome vincent guillaume antoine maxime alexandre romain mathieu
matthieu benjamin anthony kevin jeremy florian thomas hugo lucas louis
nathan enzo mathis theo raphael arthur jules gabriel leo adam paul tom
clement quentin baptiste bastien cedric damien fabien gregory jonathan ludovic
marc yannick yann loic mickael cyril franck bruno didier gilles herve
marie nathalie isabelle sylvie catherine francoise christine monique valerie
sandrine stephanie veronique sophie celine chantal patricia anne brigitte
nicole julie aurelie emilie caroline laetitia laure melanie virginie elodie
camille manon chloe emma lea ines jade louise alice lina zoe lola sarah
clara juliette anais mathilde pauline marion charlotte justine oceane morgane
audrey amandine jessica laura claire helene agnes martine jacqueline danielle
mohamed mohammed ahmed ali karim mehdi yassine nadia fatima samira leila
"""

# Keyboard walks and digit patterns long enough to pass the length rule alone.
WALKS = """
1q2w3e4r5t6y 1q2w3e4r5t6y7u 1q2w3e4r5t6y7u8i 1q2w3e4r5t6y7u8i9o0p
q1w2e3r4t5y6 q1w2e3r4t5y6u7 a1z2e3r4t5y6 a1z2e3r4t5y6u7 1a2z3e4r5t6y 1a2z3e4r5t6y7u
1qaz2wsx3edc 1qaz2wsx3edc4rfv zaq12wsxcde3 zaq1xsw2cde3 1qazxsw23edc 1qaz2wsx3edc4r
qazwsxedcrfv qazwsxedcrfvtgb qwertyuiopasdf qwertyuiopasdfgh qwertyuiopasdfghjkl
azertyuiopqsdf azertyuiopqsdfgh azertyuiopqsdfghjklm asdfghjklqwer qsdfghjklmaze
zxcvbnmasdfg zxcvbnmasdfghjkl wxcvbnqsdfgh poiuytrezaqs mlkjhgfdsqaz
qwerty123456 qwerty1234567 qwerty12345678 azerty123456 azerty1234567 azerty12345678
qwertyqwerty azertyazerty asdfasdfasdf qsdfqsdfqsdf zxcvzxcvzxcv
123456789012 1234567890123 12345678901234 123456123456 123123123123 123412341234
112233445566 111222333444 121212121212 123321123321 147258369147 147852369123
159753159753 159357159357 741852963741 963852741963 789456123789 789456123000
000000000000 111111111111 999999999999 123456654321 987654321098 098765432109
0123456789012 a1b2c3d4e5f6 a1b2c3d4e5f6g7 abc123abc123 abcd1234abcd abcdef123456
aaaaaaaaaaaa aaaaaa111111 azertyuiop123 qwertyuiop123 motdepasse1234
"""

PREFIXES = ["my", "mon", "ma", "the", "le", "la", "super", "i love ", "jaime", "ilove"]
MIN_USEFUL = 12  # shorter entries are refused by length anyway, except base words


def words(block: str) -> list[str]:
    return sorted({word.lower() for word in block.split()})


def build() -> list[str]:
    base = [word for word in words(WEAK_WORDS) if len(word) >= 4]
    entries: set[str] = set(base)
    entries.update(words(WALKS))
    for word in base:
        doubled = word + word
        if len(doubled) >= MIN_USEFUL:
            entries.add(doubled)
        for prefix in PREFIXES:
            candidate = (prefix + word).replace(" ", "")
            if len(candidate) >= MIN_USEFUL:
                entries.add(candidate)
    # Two weak words side by side: "iloveyoumarie", "soleilsoleil", "adminpassword".
    openers = ["iloveyou", "jetaime", "password", "motdepasse", "welcome", "bienvenue", "admin"]
    for opener, word in itertools.product(openers, base):
        if opener != word:
            entries.add(opener + word)
    return sorted(entries)


def main() -> None:
    entries = build()
    header = [
        "# Common and easily guessed passwords, lower-cased, one per line.",
        "# Generated by scripts/build_common_passwords.py: edit that script, not this file.",
        f"# {len(entries)} entries.",
    ]
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text("\n".join(header + entries) + "\n", encoding="utf-8")
    print(f"wrote {len(entries)} entries to {TARGET}")


if __name__ == "__main__":
    main()
