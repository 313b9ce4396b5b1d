"""sscard: the social security card (社会保障卡) and resident one-card (居民服务一卡通) platform."""

__version__ = "0.1.0"
