package configs

import (
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/BurntSushi/toml"
)

// A Section is a part of reciprocal.toml that another package owns: the
// configuration of a kind of source, declared by its descriptor
// (source.Descriptor.Config) and registered by package watcher. Parse
// decodes a registered section strictly, like the rest of the file (an
// unknown key is an error naming file:line), applies its defaults and
// checks it; Config.Section returns the result.
//
// The GitHub, Gerrit and vulnerability database sections predate this
// mechanism and are still fields of Config.
type Section struct {
	// Key is the top-level key: "gitlab" for [gitlab] or [[gitlab]].
	Key string
	// New returns a pointer to a zero value to decode the section into:
	// *T for a table, *[]T for an array of tables.
	New func() any
	// Default, if set, fills in the defaults of a decoded section.
	Default func(v any)
	// Check, if set, validates a decoded section (after Default) and
	// reports each problem with bad, giving the key path below Key it
	// concerns (for the line number) and the message.
	Check func(v any, bad func(key []string, format string, args ...any))
}

var (
	sectionsMu sync.RWMutex
	sections   []Section
)

// RegisterSection makes Parse read the section s. Registering a key twice,
// or a key that Config itself has, panics: it is a programming error.
func RegisterSection(s Section) {
	sectionsMu.Lock()
	defer sectionsMu.Unlock()
	if slices.Contains(keysAt(reflect.TypeOf(Config{}), nil), s.Key) || slices.ContainsFunc(sections, func(x Section) bool { return x.Key == s.Key }) {
		panic(fmt.Sprintf("configs: section %q registered twice", s.Key))
	}
	sections = append(sections, s)
}

func registeredSections() []Section {
	sectionsMu.RLock()
	defer sectionsMu.RUnlock()
	return slices.Clone(sections)
}

// Section returns the decoded value of the registered section key (a *T or
// *[]T, as its New returns), or nil when the file has no such section.
func (c *Config) Section(key string) any { return c.sections[key] }

// sectionKey reports whether k lies in a registered section.
func isSectionKey(secs []Section, k toml.Key) bool {
	return len(k) > 0 && slices.ContainsFunc(secs, func(s Section) bool { return s.Key == k[0] })
}

// decodeSections decodes every registered section present in data into
// c.sections, and returns the keys no Config field and no section took,
// along with the sections' problems.
func (c *Config) decodeSections(file string, data []byte, md toml.MetaData) []error {
	secs := registeredSections()
	errs := undecoded(file, data, c, md, func(k toml.Key) bool { return !isSectionKey(secs, k) })
	for _, s := range secs {
		if !md.IsDefined(s.Key) {
			continue
		}
		v := s.New()
		// The section is decoded as the one field of a struct, so that the
		// decoder's undecoded keys and the suggestions for misspelled keys
		// work as for Config's own fields.
		wrap := reflect.New(reflect.StructOf([]reflect.StructField{{
			Name: "Section",
			Type: reflect.TypeOf(v).Elem(),
			Tag:  reflect.StructTag(fmt.Sprintf("toml:%q", s.Key)),
		}}))
		smd, err := decodeMeta(file, data, wrap.Interface())
		if err != nil {
			return append(errs, err)
		}
		errs = append(errs, undecoded(file, data, wrap.Interface(), smd, func(k toml.Key) bool { return k[0] == s.Key })...)
		reflect.ValueOf(v).Elem().Set(wrap.Elem().Field(0))
		if c.sections == nil {
			c.sections = map[string]any{}
		}
		c.sections[s.Key] = v
	}
	return errs
}

// defaultSections applies the registered sections' defaults.
func (c *Config) defaultSections() {
	for _, s := range registeredSections() {
		if v, ok := c.sections[s.Key]; ok && s.Default != nil {
			s.Default(v)
		}
	}
}

// checkSections validates the registered sections, reporting with bad.
func (c *Config) checkSections(bad func(key []string, format string, args ...any)) {
	for _, s := range registeredSections() {
		v, ok := c.sections[s.Key]
		if !ok || s.Check == nil {
			continue
		}
		s.Check(v, func(key []string, format string, args ...any) {
			bad(append([]string{s.Key}, key...), format, args...)
		})
	}
}
