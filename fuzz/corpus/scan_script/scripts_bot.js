const ccxt = require('ccxt');

const exchange = new ccxt.binance({ apiKey: "f9Xw3mq5TzUrV2qqNMcoLNh2eVXjNNKQgg48NYb8GyhD1Mw1vMyQAnl0G89VhnCr", secret: "eVMvalbWkKa0ctxFKg8rBMv3wktxtyuzC5r9OOL3vRIzO69396W8o6dxqcptzdLd" });
exchange.fetchBalance().then(console.log);
