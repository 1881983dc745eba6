package vault

import "fmt"

// plural says n of a noun in English for an error message: "1 change",
// "2 changes".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
