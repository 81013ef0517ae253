"""Operations: health checks, request ids, JSON logs, security headers, metrics."""
