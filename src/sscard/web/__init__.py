"""Pages people use (zh-CN): server-rendered Jinja2 templates, assets served from the package."""
