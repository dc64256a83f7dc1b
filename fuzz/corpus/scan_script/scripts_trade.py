import ccxt

exchange = ccxt.okx({
    'apiKey': '5425a6a3-66e1-4f2e-a4a3-d144216a8f4f',
    'secret': '379FD7EAAA7066FB7890A3EFFDFC0F49',
    'password': 'Ccxt.CXpghJ',
    'enableRateLimit': True,
})
print(exchange.fetch_balance())
