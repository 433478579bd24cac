package db

// UpFrom applies migrations from another source, for tests of the migrator.
var UpFrom = up
