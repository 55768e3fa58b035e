// Go's Regexp.ReplaceAllString expands $1, ${1} and ${name}; JS spells the last two $1 and $<name>.
export function jsReplacement(goTemplate: string): string {
  return goTemplate.replace(/\$\{(\w+)\}/g, (_m, name: string) => (/^\d+$/.test(name) ? `$${name}` : `$<${name}>`));
}
