import os
import ccxt

exchange = ccxt.binance({'apiKey': os.environ['BINANCE_API_KEY'], 'secret': os.getenv('BINANCE_API_SECRET')})
# apiKey: 'abc'  -- too short to be anything
