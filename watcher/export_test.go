package watcher

// SetImportBounds sets the bounds of an import transaction and a hook called
// after each, for a test; the returned function restores them.
func SetImportBounds(objects, bytes int, hook func(objects, bytes int)) (restore func()) {
	o, b, h := importTxObjects, importTxBytes, testHookImportTx
	importTxObjects, importTxBytes, testHookImportTx = objects, bytes, hook
	return func() { importTxObjects, importTxBytes, testHookImportTx = o, b, h }
}

// SetBuildAbove sets how many stored items an empty index must wait for to
// be built whole, for a test; the returned function restores it.
func SetBuildAbove(n int) (restore func()) {
	old := buildAbove
	buildAbove = n
	return func() { buildAbove = old }
}
