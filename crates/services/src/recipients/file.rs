//! 一户一档: everything the platform knows of a household, on one page.
