"""The cardholder base registry (持卡人基础信息库): persons, employers, communities, photos."""
