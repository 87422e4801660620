"""The privacy notice, the account's own data (/mydata) and its erasure (/forget)."""
