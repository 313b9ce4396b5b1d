"""Keys and cryptography (密钥密码系统): SM2/SM3/SM4, the key store, field encryption.

Modules: :mod:`primitives` (SM2, SM3, SM4 over GmSSL), :mod:`pem` (key files OpenSSL reads),
:mod:`keyring` (key hierarchy and cache), :mod:`service` (key use cases), :mod:`fields`
(personal-data tokens, blind indexes, re-encryption). See docs/crypto.md.
"""
