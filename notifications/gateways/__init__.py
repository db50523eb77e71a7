"""SMS gateways behind ``notifications.ports.SmsGateway``: Twilio (real or local fake) and console."""
