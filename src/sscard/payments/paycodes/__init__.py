"""Consumer payments (居民付款): the resident's payment code (付款码, 被扫) with its single-use
server record, and paying a merchant's QR (主扫) from the wallet; both end in a card order."""
