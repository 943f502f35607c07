\set bal random(1, 100000)
SELECT calculate_adj_bal(:bal, 0.46);
