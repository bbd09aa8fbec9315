{
  "mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
  "verificationMaterial": {
    "publicKey": {
      "hint": "5c2b1ae543f9266923346224cbe82e94d301931c422efdaf8ccfdd5bce952bef"
    },
    "tlogEntries": []
  },
  "dsseEnvelope": {
    "payload": "ewogICJfdHlwZSI6ICJodHRwczovL2luLXRvdG8uaW8vU3RhdGVtZW50L3YxIiwKICAic3ViamVjdCI6IFsKICAgIHsKICAgICAgIm5hbWUiOiAibSIsCiAgICAgICJkaWdlc3QiOiB7CiAgICAgICAgInNoYTI1NiI6ICIwZThiODY5ODBkYjE4MDE0MjgzNmJlOWQwNzdjYmRhNjM4MjYwNmE4NThhOTQ5ZmU5OTU1NGZjMDJlYmFhZTA4IgogICAgICB9CiAgICB9CiAgXSwKICAicHJlZGljYXRlVHlwZSI6ICJodHRwczovL21vZGVsX3NpZ25pbmcvc2lnbmF0dXJlL3YxLjAiLAogICJwcmVkaWNhdGUiOiB7CiAgICAic2VyaWFsaXphdGlvbiI6IHsKICAgICAgIm1ldGhvZCI6ICJmaWxlcyIsCiAgICAgICJoYXNoX3R5cGUiOiAic2hhMjU2IiwKICAgICAgImFsbG93X3N5bWxpbmtzIjogZmFsc2UsCiAgICAgICJpZ25vcmVfcGF0aHMiOiBbCiAgICAgICAgIi5naXQiLAogICAgICAgICIuZ2l0YXR0cmlidXRlcyIsCiAgICAgICAgIi5naXRodWIiLAogICAgICAgICIuZ2l0aWdub3JlIiwKICAgICAgICAibW9kZWwuc2lnIgogICAgICBdCiAgICB9LAogICAgInJlc291cmNlcyI6IFsKICAgICAgewogICAgICAgICJuYW1lIjogImEuYmluIiwKICAgICAgICAiYWxnb3JpdGhtIjogInNoYTI1NiIsCiAgICAgICAgImRpZ2VzdCI6ICJiYTc4MTZiZjhmMDFjZmVhNDE0MTQwZGU1ZGFlMjIyM2IwMDM2MWEzOTYxNzdhOWNiNDEwZmY2MWYyMDAxNWFkIgogICAgICB9LAogICAgICB7CiAgICAgICAgIm5hbWUiOiAiYi5iaW4iLAogICAgICAgICJhbGdvcml0aG0iOiAic2hhMjU2IiwKICAgICAgICAiZGlnZXN0IjogIjRjOGE0Mzk4MDQ5ODYzNmU5YzFkMTU5NWZhNWQxMTVhZjc5MzdjMjQyMmRmZTY4YTI1MjBhNTJiN2E1ZmI0ZGUiCiAgICAgIH0KICAgIF0KICB9Cn0=",
    "payloadType": "application/vnd.in-toto+json",
    "signatures": [
      {
        "sig": "MGUCMG2oSZLHC5Qrt6RMnUGZFliPxVDuMj06Dog+GR59cy7pU6XxiHqHprxsMN0Bn0WDRgIxAOl+8zPFEcBAm/Ai3010FQZv5o6peKDuCwni/rgJ0EiEU6voZiqpjCuY02ZWc5YMyA==",
        "keyid": ""
      }
    ]
  }
}
