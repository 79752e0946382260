//! 定期核查 (seed 004 §7): each enrolment's next review, the township's list of reviews due, and
//! reviews that re-verify and re-evaluate a household and propose an outcome a person confirms.
