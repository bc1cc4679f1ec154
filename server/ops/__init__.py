"""Operations: setting an installation up (areas, first admin, built-ins, demo data) and readiness."""
