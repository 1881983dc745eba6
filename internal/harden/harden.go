// Package harden keeps what a clientvault process holds in memory (the
// unlocked keys, a decrypted record, the fields of a form) out of core files
// and away from debuggers run by other processes of the same user: a core of
// `add` held the plaintext and the secret key. Every command calls Process
// first; the unlock agent, which holds the keys for hours, refuses to run if
// it fails.
package harden
