/* limits.h: intentionally empty. gcc's own limits.h (found first, it defines everything)
 * ends with #include_next <limits.h>, which lands here under -nostdinc. */
