// PLACEHOLDER main until the CLI lands.
int main() { return 2; }
