"""Contributions (人社缴费): a resident pays a 城乡居民基本养老保险 contribution for a year and a
grade; once paid it is reported to the social insurance system through the outbox."""
