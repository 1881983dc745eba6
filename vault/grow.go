package vault

// growStep is how much bbolt grows a vault file of size bytes by when a
// commit needs room past its end (bbolt's AllocSize). bbolt grows by the
// whole AllocSize whenever its memory map is larger than AllocSize, and the
// vault maps 1 GiB up front (initialMmapSize): with a fixed 4 MB step, one
// add grew a compacted 196 KB vault to 4.4 MB. An eighth of the file,
// between one page and vaultAllocSize, keeps a small vault small and still
// grows a large one in few steps. (A commit that needs more than the step
// grows the file by what it needs plus the step, so a bulk add into a small
// vault grows once per commit at most, as before.)
func growStep(size int64) int {
	step := int(size / 8)
	step -= step % vaultPageSize
	return max(vaultPageSize, min(step, vaultAllocSize))
}
