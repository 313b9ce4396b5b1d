from sscard.errors import SSCardError


class AuditChainBroken(SSCardError):
    status_code = 409
    code = "audit_chain_broken"
