"""Settlement (结算): per merchant per day, what the bureau owes, paid or held; and the check that the books balance."""
