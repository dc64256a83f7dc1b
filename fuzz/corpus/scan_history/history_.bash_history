#1700000000
ls -la
curl -H "X-MBX-APIKEY: p6Xvi38zbZhGK8TvFaeE5RyhuzZ456JlGpoRp18oJC0y5YdUSjlAXGXakCMaEEWA" https://api.binance.com/api/v3/account
curl -H 'X-BAPI-API-KEY: eg5DOOrF3o0GIRkBrc' https://api.bybit.com/v5/user/query-api
curl -H "OK-ACCESS-KEY: 0909c235-b94b-415d-90a5-f14be4717237" -H "OK-ACCESS-PASSPHRASE: CurlZ8QBgl" https://www.okx.com/api/v5/account/config
git status
