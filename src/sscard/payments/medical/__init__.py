"""Medical settlement (就医结算): bills split by the medical insurance system, posted to the
ledger in three linked legs, and chronic-disease qualifications (门诊慢特病)."""
