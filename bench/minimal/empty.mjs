// A Worker with no verifier: the cost of starting an isolate at all, subtracted from the others'
// cold start to show what each verifier adds.
export default {
  async fetch(request) {
    const token = (request.headers.get("authorization") ?? "").replace(/^Bearer /, "");
    return new Response(`hello ${token.length}`);
  },
};
