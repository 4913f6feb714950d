"""Merchants, their cashiers, enrolment in campaigns and settlement statements."""
