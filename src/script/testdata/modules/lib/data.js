export function readData() {
  return open('./data.txt');
}
