DROP TRIGGER maximums_notify ON maximums;
DROP FUNCTION maximum_notify();
