"""Card issuance management (社会保障卡发行管理, 卡管): applications, making, lifecycle."""
