module github.com/fastipsec/fastipsec

go 1.26.0

require (
	github.com/klauspost/compress v1.20.4
	go.uber.org/zap v1.28.0
	golang.org/x/crypto v0.59.0
	golang.org/x/sys v0.50.0
	gopkg.in/yaml.v3 v3.0.1
)

require go.uber.org/multierr v1.10.0 // indirect
