"""The national (国密) algorithms: SM2 signatures (GB/T 32918) and SM3 hashes (GB/T 32905).

`sm3` hashes (one-shot and incremental, for the audit chain and content addressing); `sm2`
holds SM2 keys — generation, PEM/DER in the standard encodings, the public JWK and its key id —
and signs and verifies with the SM3 Z_A pre-hash; `der` and `jwk` are the small encodings they
share. No curve arithmetic is written here: it is GmSSL's (the `gmssl-pyx` extension), SM3 is
OpenSSL's (through `cryptography`), and the tests check both against the standards' own
examples and against independent implementations.

Callers catch `gateway.crypto.errors.CryptoError` and read `code`, `retriable` and `detail`.
"""
