// Placeholder: this package is built in a later change (see ARCHITECTURE.md).
export {};
