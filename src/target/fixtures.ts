// The fixed bodies are built once as Buffers so that serving them allocates nothing.

/** The exact `/json` document from TARGET.md. */
export const JSON_DOCUMENT = Buffer.from(
  '{"store":{"name":"Herd Test Store","open":true,"items":[' +
    '{"id":1,"name":"apple","price":1.25,"tags":["fruit","red"]},' +
    '{"id":2,"name":"bread","price":2.5,"tags":["bakery"]},' +
    '{"id":3,"name":"cheese","price":7.75,"tags":["dairy","aged"]}]}}',
);

/** The exact `/html` page from TARGET.md, ending with a newline. */
export const HTML_PAGE = Buffer.from(
  [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head><meta charset="utf-8"><title>Herd Target</title></head>',
    '<body>',
    '<h1 id="title">Herd Test Page</h1>',
    '<p class="lead">A fixed page for parsing tests.</p>',
    '<ul id="links">',
    '<li><a href="/get?page=1" class="nav">First</a></li>',
    '<li><a href="/get?page=2" class="nav">Second</a></li>',
    '<li><a href="/anything/contact" class="nav special">Contact</a></li>',
    '</ul>',
    '<form id="login" action="/post" method="post">',
    '<input type="hidden" name="csrf" value="tok-12345">',
    '<input type="text" name="user" value="">',
    '</form>',
    '</body>',
    '</html>',
    '',
  ].join('\n'),
);

/** The `GET /` body: the smallest useful answer, for raw request-rate benchmarks. */
export const ROOT_BODY = Buffer.from('ok\n');

/** The `GET /1k` body: exactly 1024 bytes of text, for fixed-size transfer benchmarks. */
export const ONE_K_BODY = Buffer.from('0123456789abcdef'.repeat(63) + '0123456789abcde\n');
