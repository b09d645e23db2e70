export const ISS = "https://auth.example.com";
export const AUD = "api";
