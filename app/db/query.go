package db

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"

	"github.com/uptrace/bun"
)

// Query runs query, whose parameters are $1, $2, …, with args sent apart
// from its text, and scans its rows into dest as Bun's Scan does (a slice
// takes every row; anything else takes the first, or sql.ErrNoRows).
//
// Bun writes the values of its ? placeholders into the text, so every id
// makes a new statement, which the driver prepares and keeps per
// connection until its cache turns over. With the values apart, a query
// read on every cache miss is prepared once per connection.
func Query(ctx context.Context, idb bun.IDB, dest any, query string, args ...any) error {
	var q interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	}
	switch d := idb.(type) {
	case *bun.DB:
		q = d.DB
	case bun.Tx:
		q = d.Tx
	case bun.Conn:
		q = d.Conn
	default:
		return fmt.Errorf("db.Query on a %T", idb)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	bdb := idb.NewRaw("").DB() // the scanner, whichever idb is
	if v := reflect.ValueOf(dest); v.Kind() == reflect.Pointer && v.Elem().Kind() == reflect.Slice {
		return bdb.ScanRows(ctx, rows, dest)
	}
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	if err := bdb.ScanRow(ctx, rows, dest); err != nil {
		return err
	}
	return rows.Close()
}
