"""Demo-data generator: a synthetic landing zone of school social-support records (see
`daam.demo.generator.generate`)."""
