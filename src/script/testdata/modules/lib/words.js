export function greet(name) {
  return `hello ${name}`;
}
export function shout(s) {
  return s.toUpperCase();
}
