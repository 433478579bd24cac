// Package migrations embeds Gavel's numbered SQL migrations
// (NNNN_name.up.sql / NNNN_name.down.sql) so the binary carries its schema.
// It lives beside the files because //go:embed cannot reach a parent folder.
package migrations

import "embed"

// FS holds every *.sql file of this folder.
//
//go:embed *.sql
var FS embed.FS
