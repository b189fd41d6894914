"""Third-party login providers: WeChat (mini program, official account, app, web), QQ, Weibo,
Alipay and Apple, each an adapter that turns what the client brings into a verified identity."""
