package configs

import (
	"fmt"
	"reflect"
	"slices"
	"sync"

	"github.com/BurntSushi/toml"
)

// A Section is a part of reciprocal.toml that another package owns: the
// configuration of a kind of source ([[github]], [[gerrit]], [vulndb],
// [[advisories]]), declared by its descriptor (source.Descriptor.Config)
// and registered by package watcher. Parse decodes a registered section
// strictly, like the rest of the file (an unknown key is an error naming
// file:line), applies its defaults and checks it; Config.Section returns
// the result. So this package knows no source: a program that reads the
// configuration links package watcher, which registers them all.
//
// Most sections are declared through Entries or Table, which make the
// Section and read the decoded value back with its Go type.
type Section struct {
	// Key is the top-level key: "gitlab" for [gitlab] or [[gitlab]].
	Key string
	// New returns a pointer to a zero value to decode the section into:
	// *T for a table, *[]T for an array of tables.
	New func() any
	// Absent, if set, returns the value of the section (as New's) when
	// the file does not have it, or when there is no file: what is
	// watched unless the user says otherwise. Without it, an absent
	// section has no value. A section the file sets to nothing
	// (github = []) is not absent.
	Absent func() any
	// Default, if set, fills in the defaults of a decoded section (and of
	// the value of an absent one).
	Default func(v any)
	// Check, if set, validates a decoded section (after Default) and
	// reports each problem with bad, giving the key path below Key it
	// concerns (for the line number) and the message.
	Check func(v any, bad Bad)
}

// SetDefault sets *p to def if it is the zero value: a default of a
// section's key.
func SetDefault[T comparable](p *T, def T) {
	var zero T
	if *p == zero {
		*p = def
	}
}

// Bad reports a problem at key (a path of TOML keys, for the line number),
// with a message.
type Bad func(key []string, format string, args ...any)

// Entries declares a section of entries, [[Key]], each decoded into a T.
type Entries[T any] struct {
	Key string
	// Absent, if set, returns the entries when the file has no [[Key]].
	Absent func() []T
	// Default, if set, fills in the defaults of an entry.
	Default func(e *T)
	// Check, if set, validates an entry (after Default).
	Check func(e T, bad Bad)
}

// Section returns the section to register (source.Descriptor.Config).
func (s *Entries[T]) Section() *Section {
	sec := &Section{Key: s.Key, New: func() any { return new([]T) }}
	if s.Absent != nil {
		sec.Absent = func() any { v := s.Absent(); return &v }
	}
	if s.Default != nil {
		sec.Default = func(v any) {
			for i := range *v.(*[]T) {
				s.Default(&(*v.(*[]T))[i])
			}
		}
	}
	if s.Check != nil {
		sec.Check = func(v any, bad Bad) {
			for _, e := range *v.(*[]T) {
				s.Check(e, bad)
			}
		}
	}
	return sec
}

// Of returns the entries c has, defaulted: none when the file has no
// [[Key]] and the section has no Absent.
func (s *Entries[T]) Of(c *Config) []T {
	if v, _ := c.Section(s.Key).(*[]T); v != nil {
		return *v
	}
	return nil
}

// Table declares a section that is one table, [Key], decoded into a T.
type Table[T any] struct {
	Key string
	// Absent, if set, returns the table when the file has no [Key].
	Absent func() T
	// Default, if set, fills in the table's defaults.
	Default func(t *T)
	// Check, if set, validates the table (after Default).
	Check func(t T, bad Bad)
}

// Section returns the section to register (source.Descriptor.Config).
func (s *Table[T]) Section() *Section {
	sec := &Section{Key: s.Key, New: func() any { return new(T) }}
	if s.Absent != nil {
		sec.Absent = func() any { v := s.Absent(); return &v }
	}
	if s.Default != nil {
		sec.Default = func(v any) { s.Default(v.(*T)) }
	}
	if s.Check != nil {
		sec.Check = func(v any, bad Bad) { s.Check(*v.(*T), bad) }
	}
	return sec
}

// Of returns the table c has, defaulted, or nil when the file has no
// [Key] and the section has no Absent.
func (s *Table[T]) Of(c *Config) *T {
	v, _ := c.Section(s.Key).(*T)
	return v
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

func (c *Config) setSection(key string, v any) {
	if c.sections == nil {
		c.sections = map[string]any{}
	}
	c.sections[key] = v
}

// isSectionKey reports whether k lies in a registered section.
func isSectionKey(secs []Section, k toml.Key) bool {
	return len(k) > 0 && slices.ContainsFunc(secs, func(s Section) bool { return s.Key == k[0] })
}

// decodeSections decodes every registered section present in data into
// c.sections, and returns the keys no Config field and no section took, in
// the order of the file's lines; or the one error that stopped decoding.
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
			// A type mismatch stops decoding, as one in the rest of
			// the file does: it is the one error reported.
			return []error{err}
		}
		errs = append(errs, undecoded(file, data, wrap.Interface(), smd, func(k toml.Key) bool { return k[0] == s.Key })...)
		reflect.ValueOf(v).Elem().Set(wrap.Elem().Field(0))
		c.setSection(s.Key, v)
	}
	slices.SortStableFunc(errs, func(a, b error) int { return lineOf(a) - lineOf(b) })
	return errs
}

// lineOf returns the line of a *FileError, 0 for any other error.
func lineOf(err error) int {
	if fe, ok := err.(*FileError); ok {
		return fe.Line
	}
	return 0
}

// defaultSections gives the registered sections the file does not have
// their Absent value, and applies every section's defaults.
func (c *Config) defaultSections() {
	for _, s := range registeredSections() {
		v, ok := c.sections[s.Key]
		if !ok && s.Absent != nil {
			v, ok = s.Absent(), true
			c.setSection(s.Key, v)
		}
		if ok && s.Default != nil {
			s.Default(v)
		}
	}
}

// checkSections validates the registered sections, reporting with bad.
func (c *Config) checkSections(bad Bad) {
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
