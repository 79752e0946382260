//! 一户一策: the household's plan, versioned, and the visits that follow it.
