// TypeScript runs as is: herd strips the types.
import http from 'k6/http';
import { check } from 'k6';

interface Item {
  id: number;
  name: string;
  price: number;
}

const BASE: string = __ENV.TARGET || 'http://127.0.0.1:8099';

export const options = { vus: 2, iterations: 10 };

export default function (): void {
  const items = http.get(`${BASE}/json`).json('store.items') as unknown as Item[];
  const total: number = items.reduce((sum: number, i: Item) => sum + i.price, 0);
  check(total, { 'prices add up': (t) => t === 11.5 });
}
