"""Benefit disbursement (待遇发放): batches of pensions, unemployment benefit and subsidies
paid into the cards' bank accounts through payment files and the banks' return files."""
