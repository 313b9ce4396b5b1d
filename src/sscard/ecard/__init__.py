"""The electronic social security card (电子社保卡): signing, channel copies, dynamic codes."""
