package configs

import _ "embed"

// ExampleConfig is example/reciprocal.toml, the commented configuration that
// 'reciprocal init' writes.
//
//go:embed example/reciprocal.toml
var ExampleConfig []byte

// StarterClient is example/starter-client.toml, the client profile that
// 'reciprocal init' writes as clients/example.toml.
//
//go:embed example/starter-client.toml
var StarterClient []byte
