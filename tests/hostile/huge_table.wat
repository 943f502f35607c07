;; A table of 10,000,001 elements, ten times the default limit.
(module (table 10000001 funcref))
