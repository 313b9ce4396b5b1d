"""外部接入系统 external access: code translation dictionaries (数据翻译) between our codes and
those of external systems; adapters to those systems come next to them."""
