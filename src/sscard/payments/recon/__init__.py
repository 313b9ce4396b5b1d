"""Reconciliation (商户对账): daily files from the banks and the acquirer matched three ways
against our books, differences classified and resolved by adjusting transfers."""
