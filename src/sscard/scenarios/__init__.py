"""Terminals and application scenarios (应用终端系统): the scenario catalogue (视读/刷卡/扫码),
terminals and their credentials, and what each scenario may see of a cardholder."""
